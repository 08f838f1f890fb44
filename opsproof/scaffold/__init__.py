"""``opsproof init``: a first opsproof.yaml, written from a template or read off a compose file.

Everything opsproof cannot know from the compose file (where the service is reached from here,
which port, which kind) is written as a guess and marked ``# GUESS: confirm …``.
"""
