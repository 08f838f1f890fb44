"""How opsproof reaches another host: SSH, one multiplexed connection per host per run."""
