"""Running components: weld(), fake_network(), the patches, the schedules and explore (no
widgets)."""
