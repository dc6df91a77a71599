#!/usr/bin/env python3
"""Record the first bytes a real TLS client sends, on loopback only.

usage: capture.py OUT.bin -- CLIENT ARGS...   ({port} in the arguments becomes the port)

Listens on 127.0.0.1 on a free port, starts the client, accepts its first connection, reads
until the ClientHello is complete (record layer walked here) or the client goes quiet, writes
those bytes to OUT.bin, closes the connection and stops the client.
"""
import socket
import subprocess
import sys
import time


def hello_complete(buf):
    """True once the records in buf carry a whole first handshake message."""
    msg = bytearray()
    off = 0
    while off + 5 <= len(buf):
        n = int.from_bytes(buf[off + 3:off + 5], 'big')
        if off + 5 + n > len(buf):
            return False
        msg += buf[off + 5:off + 5 + n]
        off += 5 + n
        if len(msg) >= 4 and len(msg) >= 4 + int.from_bytes(msg[1:4], 'big'):
            return True
    return False


def main():
    out = sys.argv[1]
    cmd = sys.argv[3:]
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(('127.0.0.1', 0))
    srv.listen(8)
    port = srv.getsockname()[1]
    cmd = [a.replace('{port}', str(port)) for a in cmd]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    srv.settimeout(30)
    conn, _ = srv.accept()
    conn.settimeout(3)
    buf = b''
    deadline = time.time() + 10
    while not hello_complete(buf) and time.time() < deadline:
        try:
            chunk = conn.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
    conn.close()
    srv.close()
    proc.kill()
    proc.wait()
    with open(out, 'wb') as f:
        f.write(buf)
    print(f'{out}: {len(buf)} bytes, complete={hello_complete(buf)}')


if __name__ == '__main__':
    main()
