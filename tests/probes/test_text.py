"""Quoting a peer's bytes in a reason: printable, short, and honest about what was cut."""

from opsproof.support.text import excerpt, one_line, printable, quantity


def test_printable_escapes_controls_and_bidi_overrides_but_keeps_line_breaks() -> None:
    assert printable("a\x00b\x1b[31m\u202ec\nd\te") == "a\\x00b\\x1b[31m\\u202ec\nd\te"
    assert printable("plain") == "plain"


def test_one_line_collapses_escapes_and_cuts() -> None:
    assert one_line("a \n\t b\x07") == "a b\\x07"
    assert one_line("x" * 500, 10) == "xxxxxxxxx…"


def test_excerpt_of_a_long_body_looks_only_at_its_head() -> None:
    body = b"y" * 10_000_000

    assert excerpt(body, limit=20) == "y" * 19 + "…"


def test_excerpt_names_binary_empty_and_blank_bodies() -> None:
    assert excerpt(b"\x89PNG\r\n\x1a\n\xff\xfe", "image/png") == "<10 bytes of image/png>"
    assert excerpt(b"") == "<empty body>"
    assert excerpt(b"   \n ") == "<5 bytes of whitespace>"


def test_excerpt_cut_inside_a_multibyte_character_still_decodes() -> None:
    body = b"a" + "é".encode() * 1000  # the 72-byte head ends in half a character

    assert excerpt(body, limit=9) == "a" + "é" * 7 + "…"


def test_quantity_reads_like_people_write_sizes() -> None:
    assert quantity(4 << 20) == "4 MiB"
    assert quantity(2 << 30) == "2 GiB"
    assert quantity(1536) == "1.5 KiB"
    assert quantity(1) == "1 byte"
