"""The ``/v1`` routes, one small module per resource (see ``docs/http-api.md``)."""
