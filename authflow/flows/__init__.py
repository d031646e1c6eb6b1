"""Login flows: start a flow for an application, resume it with each answer, apply its effects once."""
