"""The parts of a DR drill that need no particular deployment: its phases' timeline, acknowledged
writes (the recovery point), integrity checks and objectives. The drill on the reference stack
is opsproof.stack.drill."""
