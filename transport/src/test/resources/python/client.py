"""A DualPipe client speaking the wire format with only the standard library.

Usage: client.py unix:/path | tcp:host:port
Prints one line per result; the Java test reads them.
"""
import json, os, socket, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wire import *

target = sys.argv[1]
if target.startswith('unix:'):
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(target[5:])
else:
    host, port = target[4:].rsplit(':', 1)
    sock = socket.create_connection((host, int(port)))
stream = sock.makefile('rb')


def call(rid, type_, body):
    sock.sendall(frame(type_, REQUEST, rid, body))
    while True:
        t, flags, r, b = read_frame(stream)
        if flags & REPLY and r == rid:
            return t, flags, b
        dispatch(t, flags, r, b)


def dispatch(t, flags, r, b):
    """A frame the server sent on its own: a pushed message, or a request to answer."""
    if flags & REQUEST:
        question = json.loads(b)
        answer = json.dumps({'name': 'python', 'pid': os.getpid(), 'echo': question}).encode()
        sock.sendall(frame(JSON, REPLY, r, answer))
        print('answered', json.dumps(question), flush=True)
    else:
        print('pushed', t, b.decode('utf-8'), flush=True)


t, flags, b = call(1, JSON, json.dumps({'op': 'add', 'a': 2, 'b': 3}).encode())
print('add', t, json.loads(b)['sum'], flush=True)
t, flags, b = call(2, UTF8, 'ping'.encode())
print('utf8', t, b.decode('utf-8'), flush=True)
t, flags, b = call(3, JSON, json.dumps({'op': 'fail'}).encode())
print('error', flags, b.decode('utf-8'), flush=True)
# One-way: the server answers by pushing a message and sending us a request of its own.
sock.sendall(frame(JSON, 0, 0, json.dumps({'op': 'push-me'}).encode()))
pushed = answered = False
while not (pushed and answered):
    t, flags, r, b = read_frame(stream)
    dispatch(t, flags, r, b)
    pushed = pushed or not flags & REQUEST
    answered = answered or bool(flags & REQUEST)
# The request id space is ours; the server's requests used their own. A final round trip proves the
# connection is still in step.
t, flags, b = call(4, UTF8, 'done'.encode())
print('utf8', t, b.decode('utf-8'), flush=True)
sock.close()
