"""Client: the one Python interface, embedded (calls the service) or remote."""
