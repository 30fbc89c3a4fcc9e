"""The Kubernetes access layer: the only package that talks to an API server.

Modules (import the module, not its names)::

    config       kubeconfig / in-cluster -> frozen ClusterConfig
    credentials  bearer tokens: static, token file, exec plugin (cached until expiry)
    client       Client: raw-dict CRUD, paginated lists, patch, watch, wait_for_condition
    discovery    APIResource and the served-resource catalogue (refreshable)
    listing      list_many: several lists concurrently, memory bounded
    bodies       TypedDicts of raw objects, ListPage, WatchEvent
    wire         decoding list and watch responses into bodies
    ratelimit    TokenBucket (client-side QPS/burst) and the Clock protocol
    retry        RetryPolicy: what is retried, with which backoff
    errors       the KubeError tree, rooted in strongroom.errors
    _transport   the one module that imports the client library (see ADR 0003)
"""
