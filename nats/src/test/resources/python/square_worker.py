"""A DualPipe worker for the NATS tests, in the standard library only (docs/wire-format.md).

DO n (a number): answers n*n, sending ["PROGRESS", pid, parent, n] first when n % 1000 == 999.
DO {"sleep": s, "n": n}: sleeps s seconds (the work), then answers n*n; with "mark": PATH it first
appends its pid to PATH (a test counts the runs); {"big": k} answers a string of k bytes.
DO "boom": answers an error reply. DO "die": exits at once (status 3), answering nothing.
Other envelopes: answered one-way with ["ACK", pid, parent, [request, data]].
"""
import json
import os
import struct
import sys
import time

inp, out = sys.stdin.buffer, sys.stdout.buffer
HEADER = struct.Struct('>BBII')
pid = os.getpid()


def read_exact(n):
    data = b''
    while len(data) < n:
        chunk = inp.read(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def send(flags, rid, obj=None, text=None):
    body = text.encode() if text is not None else json.dumps(obj).encode()
    out.write(HEADER.pack(4, flags, rid, len(body)) + body)
    out.flush()


while True:
    h = read_exact(HEADER.size)
    if h is None:
        break
    typ, flags, rid, length = HEADER.unpack(h)
    req, sender, recipient, data = json.loads(read_exact(length))
    if req == 'DIE':
        break
    if req != 'DO':
        send(0, 0, ['ACK', pid, sender, [req, data]])
        continue
    if data == 'die':
        os._exit(3)
    if data == 'boom':
        send(0x06, rid, text='boom asked for')
        continue
    if isinstance(data, dict):
        if 'mark' in data:
            with open(data['mark'], 'a') as f:
                f.write('%d\n' % pid)
        if 'big' in data:
            send(0x02, rid, ['FINISHED', pid, sender, 'x' * data['big']])
            continue
        time.sleep(data.get('sleep', 0))
        data = data['n']
    if data % 1000 == 999:
        send(0, 0, ['PROGRESS', pid, sender, data])
    send(0x02, rid, ['FINISHED', pid, sender, data * data])
