"""Click subcommands, one module each; ``asmnet_edge.cli`` loads them lazily."""
