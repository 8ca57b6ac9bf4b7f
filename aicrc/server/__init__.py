"""`aicrc serve`: the REST API, a stateless FastAPI application on uvicorn.

It answers the reference system's routes (`/v1/recipe`, `/v1/query`, `/v1/bundle`, `/health`,
`/ready`, `/metrics`) with the reference's parameters and shapes, so a client written for the
reference's `aicrd` works unchanged, and aicrc's own (`/v1/compile`, `/v1/explain`, `/v1/diff`,
`/v1/validate`, `/v1/matrix`). The library is loaded once per process; answers are memoized by a
digest of their inputs. Nothing is kept between requests that a second replica would need, so the
server scales out by replicas behind a Service (deploy/).

- settings.py: every limit, from the environment (`AICRC_SERVER_*`, `AICRC_ALLOWED_*`)
- envelope.py: the one error shape, `{code, message, details, requestId, timestamp, retryable}`
- guard.py: the ASGI middleware (request ids, metrics, rate and concurrency limits, body limits),
  with ratelimit.py (a token bucket per client) and metrics.py (Prometheus)
- protocol.py: uvicorn's HTTP/1.1 protocol, closing clients too slow to send their headers
- bodies.py: request bodies (JSON or YAML) read without aliases, deep nesting or surprises
- reference.py: the reference's criteria, RecipeResult and hydrated recipe; bundling.py its bundles
- inputs.py: aicrc's own request bodies, and the confinement of a posted recipe's imports
- service.py: the compile thread (a deadline per compile) and the memo
- app.py: the routes, with models.py and openapi.py for the OpenAPI document they publish
- serve.py: uvicorn, one process or several on one socket
"""
