"""``opsproof testhost``: a Debian 12 guest under qemu, reachable only through 127.0.0.1, on
which the SSH transport, systemd and cgroup v2 are proven against real programs."""
