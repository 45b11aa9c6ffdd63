"""The public API: one include line per domain."""

from fastapi import APIRouter

from loadbay.auth.router import keys_router
from loadbay.auth.router import router as auth_router
from loadbay.events.router import router as events_router
from loadbay.imports.router import router as imports_router
from loadbay.invitations.router import public_router as invitations_public_router
from loadbay.invitations.router import router as invitations_router
from loadbay.meta.router import router as meta_router
from loadbay.records.router import router as records_router
from loadbay.schema.router import router as schema_router
from loadbay.workspaces.router import router as workspaces_router

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(meta_router)
api_router.include_router(auth_router)
api_router.include_router(workspaces_router)
api_router.include_router(invitations_router)
api_router.include_router(invitations_public_router)
api_router.include_router(keys_router)
api_router.include_router(schema_router)
api_router.include_router(records_router)
api_router.include_router(imports_router)
api_router.include_router(events_router)
