#!/usr/bin/env python3
"""Re-fragment captured ClientHellos into several TLS records, as evasion tools do.

usage: derive.py   (run in this directory; rewrites the derived_*.bin files)

Each output carries the same handshake message as its source, so it must parse to the same
ClientHello and the same JA4:
  derived_chromium_rec1.bin    chromium.bin in 1-byte records (1983 records)
  derived_curl_h2_sni.bin      curl_h2.bin in two records split in the middle of the SNI name
  derived_node_tls_rec7.bin    node_tls.bin in 7-byte records
"""


def message(stream):
    """The handshake message carried by the first record of a captured stream."""
    n = int.from_bytes(stream[3:5], 'big')
    return stream[:3], stream[5:5 + n]


def records(head, msg, cuts):
    out = b''
    prev = 0
    for cut in list(cuts) + [len(msg)]:
        frag = msg[prev:cut]
        out += head + len(frag).to_bytes(2, 'big') + frag
        prev = cut
    return out


def write(name, data):
    with open(name, 'wb') as f:
        f.write(data)
    print(f'{name}: {len(data)} bytes')


def main():
    head, msg = message(open('chromium.bin', 'rb').read())
    write('derived_chromium_rec1.bin', records(head, msg, range(1, len(msg))))

    head, msg = message(open('curl_h2.bin', 'rb').read())
    name = b'curl.example'
    write('derived_curl_h2_sni.bin', records(head, msg, [msg.index(name) + len(name) // 2]))

    head, msg = message(open('node_tls.bin', 'rb').read())
    write('derived_node_tls_rec7.bin', records(head, msg, range(7, len(msg), 7)))


if __name__ == '__main__':
    main()
