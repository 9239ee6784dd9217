"""The views: the only part of sockviz that imports matplotlib and ipywidgets."""
