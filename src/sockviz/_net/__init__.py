"""The fake network (private: use the names exported by ``sockviz``)."""
