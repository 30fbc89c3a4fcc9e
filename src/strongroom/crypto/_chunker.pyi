import mmap

MIN: int
AVG: int
MAX: int

class Chunker:
    def __init__(self, table: bytes, prf_key: bytes) -> None: ...
    def cuts(self, buf: bytes | bytearray | memoryview | mmap.mmap, /) -> list[int]: ...
