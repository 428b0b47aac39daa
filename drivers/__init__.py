"""Camera-family drivers for Doorstep; each speaks one family and knows nothing of the gateway."""
