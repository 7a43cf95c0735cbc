"""Connects to a Unix socket, sends one utf8 request and reports what happened:
'reply <text>' or 'closed' (the server hung up on us)."""
import os, socket, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wire import *

sock = socket.socket(socket.AF_UNIX)
sock.connect(sys.argv[1])
try:
    sock.sendall(frame(UTF8, REQUEST, 1, b'knock'))
    t, flags, rid, body = read_frame(sock.makefile('rb'))
    print('reply', body.decode('utf-8'), flush=True)
except (EOFError, ConnectionResetError, BrokenPipeError):
    print('closed', flush=True)
