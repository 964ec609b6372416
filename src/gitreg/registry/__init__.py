"""Reading a registry: a ref's manifests (`reader`), its release tags (`released`), and the
checks every released tag must pass (`audit`). Shared by the ops; never prints."""
