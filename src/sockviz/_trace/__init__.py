"""Events, traces and trace files (private: use the names exported by ``sockviz``)."""
