"""Files: a tar archive plus a sha256 manifest that carries its own hash; a restored tree is
checked against the manifest for content, missing and extra files, and permissions."""
