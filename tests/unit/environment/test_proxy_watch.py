"""The proxy watch's parsers: Toxiproxy's sockets as ``ss`` prints them, its log lines, and the
bytes that crossed between two readings."""

from __future__ import annotations

from harness.environment.proxy_watch import accepted_proxy, docker_timestamp, listen_port, parse_ss, traffic_since

# Real `nsenter -t PID -n ss -tinHO state established` output from a Toxiproxy 2.12 container:
# two client connections on the catalog proxy's port, one on the redis proxy's, and the proxy's
# own connection to its upstream (which must be left out).
SS = """\
0      0      [::ffff:172.18.0.4]:18080 [::ffff:172.18.0.6]:52998 bbr wscale:10,10 rto:204 bytes_sent:4952 bytes_acked:4952 bytes_received:2922 segs_out:40
0      0      [::ffff:172.18.0.4]:18080 [::ffff:172.18.0.7]:41000 bbr bytes_acked:100 bytes_received:50 segs_out:4
0      0      [::ffff:172.18.0.4]:16379 [::ffff:172.18.0.6]:40000 bbr bytes_acked:10 bytes_received:84 segs_out:4
0      0               172.18.0.4:37380          172.18.0.2:8080  bbr wscale:10,10 bytes_sent:2922 bytes_acked:2923 bytes_received:4952
"""
PORTS = {18080: "catalog", 16379: "redis"}


def test_listen_ports_of_every_address_form():
    assert listen_port("0.0.0.0:18080") == 18080 and listen_port("[::]:16379") == 16379


def test_sockets_on_a_proxy_port_are_kept_with_their_counters():
    sockets = parse_ss(SS, PORTS)
    assert sockets == {
        ("[::ffff:172.18.0.4]:18080", "[::ffff:172.18.0.6]:52998"): ("catalog", 2922, 4952),
        ("[::ffff:172.18.0.4]:18080", "[::ffff:172.18.0.7]:41000"): ("catalog", 50, 100),
        ("[::ffff:172.18.0.4]:16379", "[::ffff:172.18.0.6]:40000"): ("redis", 84, 10),
    }


def test_traffic_counts_what_crossed_since_the_previous_reading():
    first = parse_ss(SS, PORTS)
    assert traffic_since(None, first, ["catalog", "redis", "ghost"]) == {
        "catalog": [0, 0, 2], "redis": [0, 0, 1], "ghost": [0, 0, 0]}  # a starting point only
    later = parse_ss(SS.replace("bytes_received:2922", "bytes_received:3922").replace(":41000", ":41001"), PORTS)
    moved = traffic_since(first, later, ["catalog", "redis", "ghost"])
    # 1000 more bytes on the first connection; the second is a new one (counted whole)
    assert moved == {"catalog": [1000 + 50, 100, 2], "redis": [0, 0, 1], "ghost": [0, 0, 0]}


def test_only_accepted_client_lines_name_a_proxy():
    line = (b'2026-12-04T01:37:16.128430642Z {"level":"info","name":"catalog","listen":"0.0.0.0:18080",'
            b'"client":"172.18.0.6:52998","message":"Accepted client"}')
    assert accepted_proxy(line) == "catalog"
    assert accepted_proxy(line.replace(b"Accepted client", b"Started proxy")) is None
    assert accepted_proxy(b'2026-12-04T01:37:16Z {"message":"Accepted client"') is None  # torn line
    assert docker_timestamp(line) == 1796348236.128430
