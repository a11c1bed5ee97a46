"""Sub-commands of the `fedloom` CLI; each module adds its parser and handler."""
