"""Small programs for the people around the system (monitoring teams): they use only the published contracts
(`contracts`), as any outside consumer of our topics would."""
