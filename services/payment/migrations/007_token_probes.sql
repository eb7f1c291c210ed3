-- 1TokenSearch probes of token charges of unknown outcome (design §6.2, issue 17) are attempts with action
-- 'token_probe'; /metrics counts them by status at each scrape.
CREATE INDEX gateway_attempts_token_probes ON gateway_attempts (status) WHERE action = 'token_probe';
