"""Web's routes: a method and a path of literal segments and one-segment parameters."""

from __future__ import annotations

from paperboy.web.routes import Routes


def _routes() -> Routes:
    routes = Routes()

    @routes.get("/unsubscribe/<token>")
    def page(token: str) -> str:
        return f"page {token}"

    @routes.post("/unsubscribe/<token>")
    def unsubscribe(token: str) -> str:
        return f"unsubscribe {token}"

    @routes.get("/subscribe")
    def form() -> str:
        return "form"

    return routes


def test_a_request_reaches_the_function_of_its_method_and_path_with_its_token() -> None:
    routes = _routes()
    found = routes.match("GET", "/unsubscribe/v1.abc-DEF_9")
    assert found is not None
    handler, parameters = found
    assert handler(**parameters) == "page v1.abc-DEF_9"
    post = routes.match("post", "/unsubscribe/v1.abc")
    assert post is not None and post[0](**post[1]) == "unsubscribe v1.abc"
    assert routes.match("GET", "/subscribe") is not None


def test_paths_and_methods_no_route_takes_find_nothing() -> None:
    routes = _routes()
    for method, path in [
        ("PUT", "/unsubscribe/v1.abc"),  # a method the path does not take
        ("GET", "/unsubscribe/v1.abc/more"),  # a parameter is one segment, never a path
        ("GET", "/unsubscribe/"),
        ("GET", "/unsubscribe"),
        ("GET", "/subscribe/"),
        ("GET", "/subscribeX"),
        ("GET", "/"),
        ("POST", "/subscribe"),
    ]:
        assert routes.match(method, path) is None, (method, path)


def test_literal_segments_are_matched_as_text_not_as_patterns() -> None:
    routes = Routes()
    routes.get("/a.b/<x>")(lambda x: x)
    assert routes.match("GET", "/a.b/1") is not None
    assert routes.match("GET", "/aXb/1") is None
