"""The model: the fake network and its sockets (private: ``sockviz.lowlevel`` exports its
public pieces)."""
