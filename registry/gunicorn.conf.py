"""gunicorn settings for `make run`: threads per worker, bound to loopback by default."""

import multiprocessing
import os

# BIND (host:port) wins; else PORT on loopback, as `make run PORT=8080` sets it.
bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT') or '8000'}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = os.environ.get("ACCESS_LOG", "-") or None  # ACCESS_LOG="" turns it off
max_requests = 20000
max_requests_jitter = 2000
