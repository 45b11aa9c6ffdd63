import { Anchor, type AnchorProps, Button, type ButtonProps, NavLink, type NavLinkProps } from "@mantine/core";
import { createLink, type LinkComponent } from "@tanstack/react-router";
import type { ComponentPropsWithRef } from "react";

/** Mantine's anchors as typed router links (params and search are checked against the routes). */

type MantineAnchorProps = AnchorProps & Omit<ComponentPropsWithRef<"a">, keyof AnchorProps>;
function MantineAnchor(props: MantineAnchorProps) {
  return <Anchor {...props} />;
}
const RouterAnchor = createLink(MantineAnchor);
export const AnchorLink: LinkComponent<typeof MantineAnchor> = (props) => <RouterAnchor preload="intent" {...props} />;

type MantineNavLinkProps = NavLinkProps & Omit<ComponentPropsWithRef<"a">, keyof NavLinkProps>;
function MantineNavLink(props: MantineNavLinkProps) {
  return <NavLink component="a" {...props} />;
}
const RouterNavLink = createLink(MantineNavLink);
export const NavLinkLink: LinkComponent<typeof MantineNavLink> = (props) => <RouterNavLink preload="intent" {...props} />;

type MantineButtonProps = ButtonProps & Omit<ComponentPropsWithRef<"a">, keyof ButtonProps>;
function MantineButtonAnchor(props: MantineButtonProps) {
  return <Button component="a" {...props} />;
}
const RouterButton = createLink(MantineButtonAnchor);
export const ButtonLink: LinkComponent<typeof MantineButtonAnchor> = (props) => <RouterButton preload="intent" {...props} />;
