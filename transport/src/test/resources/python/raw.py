"""Sends raw bytes (hex) to a Unix socket, optionally half-closes, and reports how the server ended
the connection: 'eof <bytes received>' or 'reset <bytes received>'."""
import socket, sys

sock = socket.socket(socket.AF_UNIX)
sock.connect(sys.argv[1])
sock.sendall(bytes.fromhex(sys.argv[2]))
if len(sys.argv) > 3 and sys.argv[3] == 'shut':
    sock.shutdown(socket.SHUT_WR)
received = 0
try:
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            print('eof', received, flush=True)
            break
        received += len(chunk)
except ConnectionResetError:
    print('reset', received, flush=True)
