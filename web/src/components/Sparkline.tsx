import { Sparkline } from "@mantine/charts";
import "@mantine/charts/styles.css";

// The providers list draws its sparklines with this module, loaded on its own
// (React.lazy): the charts library is the biggest part of the app, and the
// table should not wait for it.
export default Sparkline;
