"""Small example modules shipped with Headrace, for the README and first tries."""
