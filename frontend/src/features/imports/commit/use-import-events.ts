import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { eventsUrl, importKeys, type Progress, progressQuery, RUNNING_STATUSES } from "../api";

/**
 * The progress of a running import, pushed by server-sent events into the query cache. When the
 * stream cannot be kept open, the same query polls instead, so the view never waits on a dead stream.
 */
export function useImportProgress(workspaceId: number, importId: number, enabled: boolean) {
  const queryClient = useQueryClient();
  const [live, setLive] = useState(false);
  const query = useQuery({
    ...progressQuery(workspaceId, importId),
    enabled,
    refetchInterval: (q) => (!live && (!q.state.data || RUNNING_STATUSES.has(q.state.data.status)) ? 2000 : false),
  });

  useEffect(() => {
    if (!enabled || typeof EventSource === "undefined") return;
    const source = new EventSource(eventsUrl(workspaceId, importId));
    let finished = false;
    source.addEventListener("open", () => setLive(true));
    source.addEventListener("progress", (e) => {
      const p = JSON.parse((e as MessageEvent<string>).data) as Progress;
      queryClient.setQueryData(progressQuery(workspaceId, importId).queryKey, p);
      if (!RUNNING_STATUSES.has(p.status)) {
        finished = true;
        source.close();
        setLive(false);
        void queryClient.invalidateQueries({ queryKey: importKeys.one(workspaceId, importId) });
        void queryClient.invalidateQueries({ queryKey: importKeys.list(workspaceId) });
        // Record counts in the navbar changed too.
        void queryClient.invalidateQueries({ queryKey: ["workspaces", workspaceId, "entities"] });
      }
    });
    source.addEventListener("error", () => {
      // The stream ends when the work ends; otherwise fall back to polling until it reconnects.
      setLive(false);
      if (finished) source.close();
    });
    return () => {
      source.close();
      setLive(false);
    };
  }, [enabled, workspaceId, importId, queryClient]);

  return { ...query, live };
}
