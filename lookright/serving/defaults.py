"""The default limits and batching of `lookright serve`, in one place.

The CLI's options, `create_app`, `make_limits` and `MicroBatcher` all read them here. No web
imports, so `lookright serve --help` shows them without loading fastapi. The word limits suit a
CPU (about 400 words/s for SmolLM2-135M on 2 cores): a request of `MAX_WORDS` takes about a
minute, a call of `MAX_BATCH_WORDS` a second or two, which is what a short request waits behind a
long one (1,024 doubled that wait without measurably speeding up the long requests, `bench/README.md`).
"""

MAX_TEXTS = 64  # texts per request
MAX_CHARS = 100_000  # characters per text
MAX_WORDS = 20_000  # words per request, all its texts together
MAX_WAIT_MS = 5.0  # how long a request waits for others to share its model call
MAX_BATCH_TEXTS = 64  # texts (or pieces of texts) per model call
MAX_BATCH_WORDS = 512  # words per model call
PIECE_WORDS = 128  # longer texts are tagged in pieces of whole sentences of at most this many words
