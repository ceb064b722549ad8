import { notifications } from "@mantine/notifications";

/** notify shows a short message in the corner; its close button is labelled. */
export function notify(color: "green" | "red", message: string, title?: string, autoClose: number | false = 4000) {
  notifications.show({ color, message, title, autoClose, closeButtonProps: { "aria-label": "Dismiss notification" } });
}
