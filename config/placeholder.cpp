int ember_placeholder_config() { return 0; }
