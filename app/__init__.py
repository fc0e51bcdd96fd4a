"""Provider Directory: provider search and PCP matching for California medical groups and IPAs."""

from flask import Flask, current_app, jsonify


def create_app(config: dict | None = None) -> Flask:
    """Application factory: configuration from the environment, then `config` on top."""
    from app import auth, cli, errors, hooks, jsonio, limits, logs, metrics, web
    from app import config as settings
    from app.api import audit, imports, match, providers, reports, suggest
    from app.engines import init_app as init_engine
    from app.fhir import api as fhir_api
    from app.fhir import bulk_api, export_api
    from app.fhir import live as fhir_live
    from app.jobs import executors

    app = Flask(__name__)
    app.config.from_mapping(settings.from_environment())
    if config:
        app.config.from_mapping(config)
    app.json = jsonio.OrjsonProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["PD_MAX_UPLOAD_BYTES"])
    logs.init_app(app)
    errors.register(app)
    init_engine(app)
    auth.init_app(app)
    executors.init_app(app)
    # The order of these three is the order their hooks run in (app.hooks says why).
    hooks.init_app(app)
    metrics.init_app(app)
    limits.init_app(app)
    app.register_blueprint(providers.bp)
    app.register_blueprint(suggest.bp)
    app.register_blueprint(imports.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(match.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(bulk_api.bp)
    app.register_blueprint(export_api.kickoff_bp)
    app.register_blueprint(export_api.bp)
    limits.limit_public(app, providers.bp)
    limits.limit_public(app, suggest.bp)
    limits.limit_public(app, export_api.kickoff_bp)
    fhir_live.init_app(app)
    app.register_blueprint(fhir_api.bp)
    limits.limit_public(app, fhir_api.bp)
    web.init_app(app)
    limits.limit_public(app, web.bp)
    cli.register(app)

    @app.get("/v1/openapi.json")
    def openapi():
        from app.openapi import served_document

        return jsonify(served_document(current_app))

    return app
