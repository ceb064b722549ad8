import { Anchor, Stack, Text, Title } from "@mantine/core";
import { Link } from "react-router";

export default function NotFoundPage() {
  return (
    <Stack>
      <Title order={2}>Page not found</Title>
      <Text>
        There is no screen here. <Anchor component={Link} to="/providers">Go to the providers</Anchor>.
      </Text>
    </Stack>
  );
}
