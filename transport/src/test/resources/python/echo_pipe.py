"""Echoes DualPipe frames over stdin/stdout: requests come back as replies, one-way messages as
one-way messages; a one-way utf8 'bye' ends it. Standard library only."""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wire import *

inp, out = sys.stdin.buffer, sys.stdout.buffer
while True:
    try:
        t, flags, rid, body = read_frame(inp)
    except EOFError:
        break
    if flags & REQUEST:
        out.write(frame(t, REPLY, rid, body))
    elif t == UTF8 and body == b'bye':
        break
    else:
        out.write(frame(t, 0, 0, body))
    out.flush()
