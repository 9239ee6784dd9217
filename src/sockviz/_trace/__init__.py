"""The read side: traces, trace files, their analysis, narration and exports (private: use
the names exported by ``sockviz``)."""
