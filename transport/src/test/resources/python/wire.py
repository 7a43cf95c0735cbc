"""The DualPipe wire format in Python's standard library only (see docs/wire-format.md)."""
import struct

HEADER = struct.Struct('>BBII')  # type, flags, request_id, length
REQUEST, REPLY, ERROR = 0x01, 0x02, 0x04
BYTES, UTF8, JSON = 0x01, 0x02, 0x03
MAX_FRAME = 16 << 20


def read_exactly(stream, n):
    data = b''
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            raise EOFError('stream ended after %d of %d bytes' % (len(data), n))
        data += chunk
    return data


def read_frame(stream):
    """(type, flags, request_id, body); EOFError at a clean end of stream too."""
    type_, flags, rid, length = HEADER.unpack(read_exactly(stream, HEADER.size))
    if flags & ~(REQUEST | REPLY | ERROR) or length > MAX_FRAME:
        raise ConnectionError('protocol error: flags 0x%02x length %d' % (flags, length))
    return type_, flags, rid, read_exactly(stream, length)


def frame(type_, flags, rid, body):
    return HEADER.pack(type_, flags, rid, len(body)) + body
