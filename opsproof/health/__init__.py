"""Runtime health for the gate: running, restarts since a baseline, OOM kills, memory, CPU
and open files of a service, whatever runs it (local processes, a container, a systemd unit
over SSH). Readers observe and never act; :mod:`opsproof.health.judge` weighs a reading
against the service's budget and its previous readings (:mod:`opsproof.health.baseline`)."""
