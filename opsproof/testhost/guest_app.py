"""The guest's dependant app: a tiny HTTP service that needs the guest's Redis, so that a
network partition between a service and its dependency can be run on the guest.

``GET /health`` answers 200 when Redis (on the guest's loopback) answers PING within
``REDIS_TIMEOUT``, else 503 naming it; a fresh connection per check, so a partition shows at
the next request; each change of health goes to the journal. It is Perl because ``perl-base``
is essential in Debian (always in the minbase image, with IO::Socket::INET and IO::Select) and
the guest downloads nothing."""

APP_PORT = 8080
"""Where it listens on the guest (forwarded to the runner's 127.0.0.1 like the others; the
forwarded connections arrive on the guest's interface, hence 0.0.0.0)."""
REDIS_ADDRESS = "127.0.0.1:6379"
REDIS_TIMEOUT = 0.5
"""Seconds for the connect and again for the PONG: a partition costs a check this long."""
UNIT = "opsproof-app.service"
SCRIPT_PATH = "/usr/local/lib/opsproof-app/app.pl"

SCRIPT = r"""#!/usr/bin/perl
# opsproof-app: GET /health is 200 when Redis answers PING within the timeout, 503 when not.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;

my ($listen, $redis, $timeout) = @ARGV;
$SIG{PIPE} = 'IGNORE';
$| = 1;
my $server = IO::Socket::INET->new(
    LocalAddr => $listen, Listen => 16, ReuseAddr => 1
) or die "cannot listen on $listen: $@\n";
print "opsproof-app on $listen, redis at $redis\n";

sub redis_problem {
    my $conn = IO::Socket::INET->new(PeerAddr => $redis, Timeout => $timeout)
        or return "redis at $redis: cannot connect (" . ($! || 'no answer') . ")";
    syswrite $conn, "PING\r\n";
    IO::Select->new($conn)->can_read($timeout)
        or return "redis at $redis: no answer within $timeout s";
    my $reply = '';
    sysread $conn, $reply, 64;
    return $reply =~ /^\+PONG/ ? '' : "redis at $redis: no PONG";
}

my $said = 'none';
while (1) {
    my $client = $server->accept or next;
    my $request = '';
    sysread $client, $request, 4096 if IO::Select->new($client)->can_read(2);
    my ($path) = $request =~ m{^GET (\S+) HTTP/};
    my ($status, $body) = ('404 Not Found', '{"error": "not found"}');
    if (defined $path && $path eq '/health') {
        my $problem = redis_problem();
        print $problem ? "unhealthy: $problem\n" : "healthy: redis answers PING\n"
            if $problem ne $said;
        $said = $problem;
        ($status, $body) = ('200 OK', '{"status": "ok", "failed": []}');
        ($status, $body) = ('503 Service Unavailable',
            qq({"status": "unavailable", "failed": ["redis"], "reason": "$problem"})) if $problem;
    }
    syswrite $client, "HTTP/1.1 $status\r\nContent-Type: application/json\r\n"
        . 'Content-Length: ' . length($body) . "\r\nConnection: close\r\n\r\n$body";
    close $client;
}
"""

UNIT_TEXT = (
    "[Unit]\nDescription=opsproof test host app (needs Redis)\n"
    "After=network.target redis-server.service\n\n"
    f"[Service]\nExecStart=/usr/bin/perl {SCRIPT_PATH} 0.0.0.0:{APP_PORT} {REDIS_ADDRESS} "
    f"{REDIS_TIMEOUT:g}\nDynamicUser=yes\nRestart=always\nRestartSec=1\n\n"
    "[Install]\nWantedBy=multi-user.target\n"
)
"""Restart=always: a crash or a kill is systemd's to undo, as for Redis. No Requires= on
Redis: the app keeps running without it and says so in its health."""
