"""The Celery app's result store and timeouts: the producers' answers kept beside the
broker (TLS included: Celery's backend insists on `ssl_cert_reqs`, kombu does not), the
1 s publish bound for producers only — a worker's own sockets wait as Celery's defaults."""

from __future__ import annotations

from celery import Celery

from config.celery_app import _worker_init, make_app, result_backend_for


def test_the_answers_are_kept_beside_the_broker() -> None:
    assert result_backend_for("redis://h:6379/0") == "redis://h:6379/0"
    assert result_backend_for("redis+socket:///tmp/r.sock?virtual_host=0").startswith("redis+")
    assert result_backend_for("amqp://guest@h//") == "rpc://"
    assert result_backend_for("redis://h/0", "redis://other/3") == "redis://other/3"


def test_a_tls_broker_s_store_verifies_the_certificate_unless_told_otherwise() -> None:
    assert result_backend_for("rediss://h:6380/0") == "rediss://h:6380/0?ssl_cert_reqs=required"
    assert result_backend_for("rediss://h/0?x=1") == "rediss://h/0?x=1&ssl_cert_reqs=required"
    given = "rediss://h/0?ssl_cert_reqs=none"
    assert result_backend_for(given) == given
    app = Celery(broker="rediss://h:6380/0", backend=result_backend_for("rediss://h:6380/0"))
    assert app.backend.as_uri().startswith("rediss://")  # Celery accepts it (it raised before)


def test_a_producer_s_publish_is_bounded_and_a_worker_s_sockets_are_not() -> None:
    app = make_app("redis://127.0.0.1:1/0")  # nothing connects
    assert app.conf.broker_transport_options["socket_timeout"] == 1.0
    _worker_init(conf=app.conf)
    assert "socket_timeout" not in app.conf.broker_transport_options
    assert "socket_connect_timeout" not in app.conf.broker_transport_options
    assert app.conf.broker_transport_options["visibility_timeout"] == 3600
    assert app.conf.redis_socket_timeout == 120.0
