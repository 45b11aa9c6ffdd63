import type { Schemas } from "../api/client";

export type Actor = Schemas["EventActor"];

/** Who made a change, in words: the user's email, the API key's name, or "System". */
export function actorLabel(actor: Actor): string {
  switch (actor.kind) {
    case "user":
      return actor.name || (actor.user_id ? `User #${actor.user_id}` : "A user");
    case "api_key":
      return actor.name ? `API key “${actor.name}”` : actor.api_key_id ? `API key #${actor.api_key_id}` : "An API key";
    default:
      return "System";
  }
}
