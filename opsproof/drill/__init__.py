"""The DR drill on a team's own deployment: stores whose runtime can stop, start and move their
data aside are backed up, verified on scratch servers, lost (moved aside, never deleted),
restored and verified; the services come back and the gate's probes and flows answer. Every
destructive step is undone through the fault ledger if the drill fails or dies. The drill of
the embedded reference stack is ``opsproof.stack.drill``."""
