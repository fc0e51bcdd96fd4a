"""Search: the engine-neutral query model, geography and result shaping."""
