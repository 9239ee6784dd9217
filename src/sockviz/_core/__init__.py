"""The engine under the model: the event contract, the recorder, the instrumented primitives, the
wait tracker and the baton.  It imports nothing of sockviz but itself and ``_errors``."""
