-- Price of the text model used through OpenRouter (same model, billed by OpenRouter).
insert into private.model_prices (model, provider, resource_type, usd_per_1k_input_tokens, usd_per_1k_output_tokens)
values ('openai/gpt-4o-mini', 'openrouter', 'text', 0.00015, 0.0006)
on conflict (model) do nothing;
