"""The `actors` subcommands, one module each; `actors.cli` parses and dispatches."""
