import { Anchor, Stack, Text, Title } from "@mantine/core";
import { Link } from "react-router";

/** AdminOnlyPage stands in for a screen the logged-in user may not use. */
export default function AdminOnlyPage() {
  return (
    <Stack>
      <Title order={2}>Admins only</Title>
      <Text>
        This screen is for administrators. <Anchor component={Link} to="/providers">Back to the providers</Anchor>.
      </Text>
    </Stack>
  );
}
