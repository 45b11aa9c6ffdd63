import type { IDatasource } from "ag-grid-community";
import { api, type RecordRow, unwrap } from "../../api/client";
import { type CursorPager, createCursorPager } from "./cursor-pager";

export const PAGE_SIZE = 100;

type Options = {
  workspaceId: number;
  entityKey: string;
  q: string | undefined;
  onLoaded: (info: { empty: boolean }) => void;
  onError: (error: unknown) => void;
};

/**
 * The grid's infinite-row-model datasource over `records-list`: the grid's sort becomes `sort` and
 * `order`, its row blocks become cursor pages (see cursor-pager). A new sort starts a new pager,
 * since cursors belong to one sort order.
 */
export function createRecordsDatasource({ workspaceId, entityKey, q, onLoaded, onError }: Options): IDatasource {
  let pager: CursorPager<RecordRow> | null = null;
  let pagerSort = "";
  return {
    getRows(params) {
      const s = params.sortModel[0];
      const sort = s?.colId ?? "id";
      const order = s?.sort ?? "asc";
      if (pager === null || pagerSort !== `${sort}:${order}`) {
        pagerSort = `${sort}:${order}`;
        pager = createCursorPager<RecordRow>(
          (cursor, limit) =>
            unwrap(
              api.GET("/api/v1/workspaces/{workspace_id}/entities/{entity_key}/records", {
                params: {
                  path: { workspace_id: workspaceId, entity_key: entityKey },
                  query: { cursor: cursor ?? undefined, limit, sort, order, q: q || undefined },
                },
              }),
            ),
          { pageSize: PAGE_SIZE },
        );
      }
      pager.getBlock(params.startRow).then(
        (block) => {
          params.successCallback(block.rows, block.lastRow ?? -1);
          if (params.startRow === 0) onLoaded({ empty: block.rows.length === 0 });
        },
        (error: unknown) => {
          params.failCallback();
          onError(error);
        },
      );
    },
  };
}
